/**
 * spawnable (scripts/local/shared/windows-spawn.ts): a Windows batch file, such as npm's
 * `func.cmd`, runs through a shell with its path quoted; anything else is spawned as it is.
 */
import { describe, expect, it } from 'vitest';
import { spawnable } from '../../../scripts/local/shared/windows-spawn';

const FUNC_CMD = 'C:\\Users\\Jane Doe\\AppData\\Roaming\\npm\\func.cmd';

describe('spawnable', () => {
  it.each([
    ['a .cmd file', FUNC_CMD],
    ['a .bat file in capitals', 'C:\\tools\\FUNC.BAT'],
  ])('runs %s on Windows through the shell, its path quoted', (_case, command) => {
    expect(spawnable(command, ['start', '--port', '7071'], 'win32')).toEqual({
      command: `"${command}"`,
      args: ['start', '--port', '7071'],
      shell: true,
    });
  });

  it.each([
    ['an .exe on Windows', 'C:\\Program Files\\Azure Functions Core Tools\\func.exe', 'win32'],
    ['a .cmd name elsewhere', '/usr/local/bin/func.cmd', 'linux'],
    ['func on Linux', '/usr/bin/func', 'linux'],
    ['func on macOS', '/opt/homebrew/bin/func', 'darwin'],
  ] as const)('spawns %s as it is, without a shell', (_case, command, platform) => {
    expect(spawnable(command, ['start', 'a b'], platform)).toEqual({
      command,
      args: ['start', 'a b'],
      shell: false,
    });
  });

  it.each(['a b', '"x"', 'a&b', 'a|b', '<x', 'x>', '^', '%PATH%', '!x!', '(x)', ''])(
    'refuses to pass %j to a batch file, which cmd.exe would read differently',
    (arg) => {
      expect(() => spawnable(FUNC_CMD, ['start', arg], 'win32')).toThrow(TypeError);
    },
  );

  it('refuses a batch file whose path holds a quote', () => {
    expect(() => spawnable('C:\\a"b\\func.cmd', [], 'win32')).toThrow(/has a quote/);
  });
});
