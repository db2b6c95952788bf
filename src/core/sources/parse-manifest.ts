import type { z } from 'zod';
import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { MANIFEST_VERSION, manifestSchema, type Manifest } from '../../spec/manifest.js';
import { familyOf } from '../family/family-registry.js';

export interface ManifestIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * Parse and validate `unipic.json`. Every failure is an `InvalidModelError`; schema failures carry
 * `details.issues`. A manifest of another version is named as such before the schema runs, so the
 * user reads "upgrade" rather than a list of field errors. The family-neutral fields are checked
 * first, then the family named by `family` (default `unipic1`) checks its own sections.
 */
export function parseManifest(text: string, where: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InvalidModelError(`${where}: unipic.json is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== 'unipic') {
    throw new InvalidModelError(`${where}: unipic.json is not a unipic manifest (its "format" is not "unipic")`);
  }
  const version = (json as { version?: unknown }).version;
  if (version !== MANIFEST_VERSION) {
    const advice =
      typeof version === 'number' && version > MANIFEST_VERSION
        ? 'it was written by a newer converter; upgrade unipic'
        : 'convert the model again with this version of unipic';
    throw new InvalidModelError(`${where}: manifest version ${JSON.stringify(version)} is not supported (this SDK reads version ${MANIFEST_VERSION}); ${advice}`, {
      details: { version, supportedVersion: MANIFEST_VERSION },
    });
  }
  const family = familyOf(check(manifestSchema, json, where), where);
  const manifest = check(family.manifestSchema, json, where);
  assertConsistent(manifest, family.referencedFiles(manifest), where);
  return manifest;
}

function check(schema: z.ZodType<Manifest>, json: unknown, where: string): Manifest {
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issues = toIssues(parsed.error);
  const summary = issues
    .slice(0, 5)
    .map((issue) => `${issue.path}: ${issue.message}`)
    .join('; ');
  throw new InvalidModelError(`${where}: invalid unipic.json — ${summary}`, { details: { issues } });
}

/** Every file the manifest refers to must be listed once in `files` (with its size and sha256). */
function assertConsistent(manifest: Manifest, referenced: readonly { path: string; field: string }[], where: string): void {
  const listed = new Set<string>();
  const issues: ManifestIssue[] = [];
  manifest.files.forEach((file, index) => {
    if (listed.has(file.path)) issues.push({ path: `files.${index}.path`, message: `${file.path} is listed twice` });
    listed.add(file.path);
  });
  const require = (path: string, field: string) => {
    if (!listed.has(path)) issues.push({ path: field, message: `${path} is not listed in files` });
  };
  for (const { path, field } of referenced) require(path, field);
  for (const [graph, variants] of Object.entries(manifest.graphs)) {
    for (const [dtype, variant] of Object.entries(variants ?? {})) {
      if (!variant) continue;
      require(variant.file, `graphs.${graph}.${dtype}.file`);
      variant.externalData.forEach((path, index) => require(path, `graphs.${graph}.${dtype}.externalData.${index}`));
    }
  }
  if (issues.length > 0) {
    throw new InvalidModelError(`${where}: inconsistent unipic.json — ${issues[0].message}`, { details: { issues } });
  }
}

function toIssues(error: z.ZodError): ManifestIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}
