import { parseAudiencesFile } from '../../../src/cli/commands/activations';

test('a JSON array of {id, name}', () => {
  expect(parseAudiencesFile('[{"id":"a1","name":"First"},{"id":"a2","name":"Second"}]')).toEqual([
    { id: 'a1', name: 'First' },
    { id: 'a2', name: 'Second' },
  ]);
});

test('lines id,name with an optional header; names may hold commas', () => {
  expect(parseAudiencesFile('id,name\na1, First\r\n\na2,Big, loyal customers\n')).toEqual([
    { id: 'a1', name: 'First' },
    { id: 'a2', name: 'Big, loyal customers' },
  ]);
});

test('bad files say what is expected', () => {
  expect(() => parseAudiencesFile('[{"id":1}]', 'aud.json')).toThrow(/aud.json: a JSON file of audiences is an array/);
  expect(() => parseAudiencesFile('a1\n', 'aud.csv')).toThrow(/aud.csv, line 1: expected "id,name"/);
});

test('a JSON file may give each audience its encoding; a bad one is refused', () => {
  expect(parseAudiencesFile('[{"id":"a1","name":"First","encoding":"list"},{"id":"a2","name":"Second"}]')).toEqual([
    { id: 'a1', name: 'First', encoding: 'list' },
    { id: 'a2', name: 'Second' },
  ]);
  expect(() => parseAudiencesFile('[{"id":"a1","name":"First","encoding":"folder"}]', 'aud.json')).toThrow(/"encoding"\?/);
});
