/**
 * Every message the workflows accept (signals, queries), defined once. The API and the CLI send them
 * through these definitions, so a renamed message or a changed argument is a compile error on both sides.
 * Workflow-safe: definitions only.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { ProfilesSignal, StreamOptions, StreamStats } from '../src/streaming/types';
import type { ActivationProgress } from './types';

/** `activateAudience`: live progress of the run (phase, counts, cursor of the page under way). */
export const progressQuery = defineQuery<ActivationProgress>('progress');

/** `destinationStream`: a group of reduced profile updates (compact wire form, see src/streaming/wire.ts). */
export const profilesSignal = defineSignal<[ProfilesSignal]>('profiles');
export const pauseStreamSignal = defineSignal<[{ reason?: string }?]>('pauseStream');
export const resumeStreamSignal = defineSignal('resumeStream');
export const configureStreamSignal = defineSignal<[Partial<StreamOptions>]>('configureStream');
export const streamStatsQuery = defineQuery<StreamStats>('streamStats');
