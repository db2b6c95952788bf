import { registerFamily } from '../core/family/family-registry.js';
import { unipic1Family } from './unipic1/runtime.js';
import { metaqueryFamily } from './unipic2-metaquery/runtime.js';

/** Register the runtime half of every family this package ships (called by the entry points). */
export function registerBuiltInFamilies(): void {
  registerFamily(unipic1Family);
  registerFamily(metaqueryFamily);
}
