/** Member sources: paging records out of uploads, files and stored rejections. */
export * from './types';
export * from './line-reader';
export * from './ndjson-source';
export * from './csv-source';
export * from './upload-analyzer';
export * from './upload-store';
export * from './source-reader';
export * from './sample-profiles';
