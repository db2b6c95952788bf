import { registerFamily } from '../core/family/family-registry.js';
import { unipic1Family } from './unipic1/runtime.js';
import { kontextFamily } from './unipic2-kontext/runtime.js';
import { metaqueryFamily } from './unipic2-metaquery/runtime.js';
import { unipic3Family } from './unipic3/runtime.js';

/** Register the runtime half of every family this package ships (called by the entry points). */
export function registerBuiltInFamilies(): void {
  registerFamily(unipic1Family);
  registerFamily(kontextFamily);
  registerFamily(metaqueryFamily);
  registerFamily(unipic3Family);
}
