/**
 * How to spawn a program that may be a Windows batch file. Since Node.js 20.12.2 (the fix for
 * CVE-2024-27980, https://nodejs.org/en/blog/vulnerability/april-2024-security-releases-2) a
 * `.cmd` or `.bat` file cannot be spawned on Windows without a shell: `spawn` fails with EINVAL.
 * npm installs Azure Functions Core Tools as `func.cmd`. With a shell, Node joins the command line
 * with spaces, so the path is quoted (it may hold a space, as under `C:\Users\Jane Doe`), and an
 * argument that cmd.exe would read differently is refused rather than passed on changed.
 */
export interface Spawnable {
  readonly command: string;
  readonly args: string[];
  readonly shell: boolean;
}

const BATCH_FILE = /\.(cmd|bat)$/i;
/** What cmd.exe treats as syntax: quotes, white space, and its operators and escapes. */
const CMD_SYNTAX = /[\s"&|<>^%!()]/;

export function spawnable(
  command: string,
  args: readonly string[],
  platform: NodeJS.Platform = process.platform,
): Spawnable {
  if (platform !== 'win32' || !BATCH_FILE.test(command)) {
    return { command, args: [...args], shell: false };
  }
  if (command.includes('"'))
    throw new TypeError(`Cannot run a batch file whose path has a quote: ${command}`);
  const unsafe = args.find((arg) => arg === '' || CMD_SYNTAX.test(arg));
  if (unsafe !== undefined) {
    throw new TypeError(`Cannot pass ${JSON.stringify(unsafe)} to a batch file through cmd.exe.`);
  }
  return { command: `"${command}"`, args: [...args], shell: true };
}
