/** Member → HubSpot properties: pure functions (no I/O). */
export * from './types';
export * from './xdm';
export * from './email';
export * from './coerce';
export * from './parse-record';
export * from './prepare';
export * from './merge';
export * from './prepare-batch';
export * from './audience-property';
export * from './check-mapping';
