/** One file of a repository at a commit, as the Hub lists it. */
export interface HubRepoFile {
  /** Path in the repository, `/`-separated. */
  readonly path: string;
  readonly size: number;
  /** The git blob id (sha1 of `blob <size>\0<bytes>`) when listed. */
  readonly gitSha1?: string;
  /** The LFS object id (sha256 of the bytes) for files stored with LFS. */
  readonly sha256?: string;
}

/** A repository resolved at a revision: the commit it points to and its files there. */
export interface HubSnapshot {
  readonly repo: string;
  /** The revision asked for (`main`, a tag, or the commit itself). */
  readonly revision: string;
  readonly commit: string;
  readonly files: readonly HubRepoFile[];
}

/**
 * The name Python's huggingface_hub gives the file's blob in its cache: the Hub's ETag, which is
 * the LFS sha256 for LFS files and the git blob sha1 for the rest.
 */
export function blobIdOf(file: HubRepoFile): string | undefined {
  return file.sha256 ?? file.gitSha1;
}

/**
 * What a family needs from one repository: the revision to read and, given the files there, the
 * paths to fetch. `select` throws a typed error naming what is missing when the repository cannot
 * be used. A family whose conversion needs a second repository (MetaQuery reads Qwen2.5-VL)
 * returns one request per repository.
 */
export interface HubFileRequest {
  readonly repo: string;
  readonly revision: string;
  select(files: readonly HubRepoFile[], snapshot: { repo: string; commit: string }): string[];
  /**
   * Whether this repository is needed at all, given what the earlier requests selected (MetaQuery
   * reads Qwen2.5-VL's repository only when the Skywork one lacks its folder); default: always.
   */
  when?(earlier: readonly { readonly repo: string; readonly files: readonly string[] }[]): boolean;
}
