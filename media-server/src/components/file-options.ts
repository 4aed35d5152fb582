// Options of a File component, checked in the original's order: filePath present, framerate an integer (or null),
// the path inside file_component_sources/, the file there, framerate positive, then the extension decides the track.
// Pure but for `lookup`, which the caller backs with the file system.
import path from 'node:path';
import { DomainError } from '../rooms/domain-errors.js';

/** Longest filePath accepted (it is echoed in every GET /room answer). */
export const MAX_FILE_PATH_LENGTH = 1024;
/** Highest framerate accepted (the original has no bound; past this the "real time" playback is a burst). */
export const MAX_FRAMERATE = 1000;
export const DEFAULT_FRAMERATE = 30;

export interface SourceLookup {
  /** <FJ_RESOURCES_BASE_PATH>/file_component_sources, absolute */
  readonly root: string;
  /**
   * The real path (symlinks resolved) of a regular file at `absolutePath`, or undefined when there is none (missing,
   * a directory, a FIFO, unreadable). Regular files only: a FIFO would block the player forever.
   */
  realFile(absolutePath: string): string | undefined;
  /** The real path of `root` (undefined if it does not exist). */
  realRoot(): string | undefined;
}

export interface FileSpec {
  /** as the client gave it (echoed in properties) */
  readonly filePath: string;
  /** what the player opens: real, inside the sources folder */
  readonly absolutePath: string;
  readonly kind: 'video' | 'audio';
  /** video: the playback rate (given or 30); audio: null */
  readonly framerate: number | null;
}

export function parseFileOptions(options: Record<string, unknown>, lookup: SourceLookup): FileSpec {
  if (!('filePath' in options) || options.filePath === undefined || options.filePath === null) {
    throw new DomainError('invalid_component', 'Required field "filePath" missing');
  }
  const filePath = options.filePath;
  if (typeof filePath !== 'string') throw new DomainError('invalid_component', 'Invalid request body structure');
  const framerate = options.framerate ?? null;
  if (framerate !== null && !Number.isInteger(framerate)) throw new DomainError('invalid_component', 'Invalid framerate passed');

  const resolved = resolveSourcePath(lookup.root, filePath);
  if (resolved === undefined) throw new DomainError('invalid_component', 'Invalid file path');
  const real = lookup.realFile(resolved);
  if (real === undefined) throw new DomainError('component_source_not_found', 'File not found');
  // A symlink inside the folder must not lead out of it (the original checks the path text only).
  const realRoot = lookup.realRoot();
  if (realRoot === undefined || !isStrictlyInside(realRoot, real)) throw new DomainError('invalid_component', 'Invalid file path');

  if (framerate !== null && ((framerate as number) <= 0 || (framerate as number) > MAX_FRAMERATE)) {
    throw new DomainError('invalid_component', 'Invalid framerate passed');
  }
  // Case-sensitive, as the original: `clip.H264` is not a video file.
  switch (path.extname(resolved)) {
    case '.h264':
      return { filePath, absolutePath: real, kind: 'video', framerate: (framerate as number | null) ?? DEFAULT_FRAMERATE };
    case '.ogg':
      if (framerate !== null) throw new DomainError('invalid_component', 'Attempted to set framerate for audio component which is not supported.');
      return { filePath, absolutePath: real, kind: 'audio', framerate: null };
    default:
      throw new DomainError('invalid_component', 'Unsupported file type');
  }
}

/**
 * `filePath` joined under `root` and normalised; a leading "/" is re-rooted there (as the original). Undefined when the
 * result is not strictly inside `root` (`..`, the folder itself) or the text cannot be a path (NUL, too long).
 */
export function resolveSourcePath(root: string, filePath: string): string | undefined {
  if (filePath.length === 0 || filePath.length > MAX_FILE_PATH_LENGTH || filePath.includes('\0')) return undefined;
  const resolved = path.resolve(root, '.' + path.sep + filePath);
  return isStrictlyInside(root, resolved) ? resolved : undefined;
}

function isStrictlyInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative !== '' && relative !== '..' && !relative.startsWith('..' + path.sep) && !path.isAbsolute(relative);
}
