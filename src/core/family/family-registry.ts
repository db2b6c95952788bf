import { InvalidModelError } from '../../errors/invalid-model-error.js';
import { DEFAULT_FAMILY, type Manifest } from '../../spec/manifest.js';
import type { ModelFamily } from './model-family.js';

const families = new Map<string, ModelFamily>();

/**
 * Make a family loadable: manifests whose `family` is its id are validated and run by it. The
 * entry points register the built-in families; registering an id again replaces it (tests).
 */
export function registerFamily(family: ModelFamily<any>): void {
  families.set(family.id, family as ModelFamily);
}

/** The registered family ids. */
export function registeredFamilies(): string[] {
  return [...families.keys()];
}

/** The family that reads this manifest; an unknown family or family version is an InvalidModelError. */
export function familyOf(manifest: Pick<Manifest, 'family' | 'familyVersion'>, where = 'unipic.json'): ModelFamily {
  const id = manifest.family ?? DEFAULT_FAMILY;
  const family = families.get(id);
  if (!family) {
    const known = registeredFamilies();
    throw new InvalidModelError(
      `${where}: model family "${id}" is not known to this SDK (known: ${known.join(', ') || 'none'}); upgrade unipic or register the family`,
      { details: { family: id, known } },
    );
  }
  const version = manifest.familyVersion ?? 1;
  if (!family.versions.includes(version)) {
    throw new InvalidModelError(
      `${where}: ${id} version ${version} is not supported (this SDK reads ${family.versions.join(', ')}); convert the model again or upgrade unipic`,
      { details: { family: id, familyVersion: version, supportedVersions: family.versions } },
    );
  }
  return family;
}
