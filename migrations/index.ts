import { InitialSchema1764403200000 } from './1764403200000-initial-schema.js';

/** Every migration, oldest first. Listed explicitly so that the app, the CLI and the tests load the same set. */
export const migrations = [InitialSchema1764403200000];
