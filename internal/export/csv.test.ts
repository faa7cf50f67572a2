import { describe, expect, it } from 'vitest';
import { csvLine } from './csv.js';

describe('csvLine', () => {
  it('keeps null and the empty string apart and quotes what needs it', () => {
    const line = csvLine(['a', null, '', 'x,y', 'say "hi"', 'two\nlines', '0.000000010']);
    expect(line).toBe('a,,"","x,y","say ""hi""","two\nlines",0.000000010\n');
  });
});
