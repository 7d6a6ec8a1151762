/** Shared by the recorder and the replay test: the fixed test-only codec key the fixtures are encoded with. */
export const FIXTURE_CODEC_KEYS = 'fixture:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='; // test fixture, not a secret
export const FIXTURE_DIR = `${__dirname}/../fixtures/histories`;
