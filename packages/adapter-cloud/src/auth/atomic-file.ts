import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

let sequence = 0;

/**
 * Replaces `path` with `text` so that a reader, or the file after a crash, sees either the old
 * content or the new, never a mix: write a temporary file beside it, flush it to disk, rename it
 * over the target (atomic on POSIX and on NTFS), then flush the folder so the rename itself
 * survives power loss.
 *
 * @example
 * ```ts
 * await writeFileAtomic('/srv/offsync/api-keys.json', JSON.stringify(data), 0o600);
 * ```
 */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const folder = dirname(path);
  await mkdir(folder, { recursive: true });
  // pid + sequence: two processes, or two writes in one, never share a temporary file.
  const temporary = `${path}.${process.pid}.${++sequence}.tmp`;
  try {
    const handle = await open(temporary, 'w', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  await syncFolder(folder);
}

async function syncFolder(folder: string): Promise<void> {
  // Windows cannot open a folder for fsync, and some file systems refuse it; the rename is
  // already done by then, only its durability across power loss is at stake.
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort, see above
  }
}
