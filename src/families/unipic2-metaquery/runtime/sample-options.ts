import { z } from 'zod';
import { editSourceShape, sampleOptionsShape, sampleSizeShape } from '../../../core/diffusion/sample-options-schema.js';
import { EDIT_NEGATIVE_PROMPT, GENERATE_NEGATIVE_PROMPT } from './conditioning-pairs.js';

/** `generate`: the shared sampler options; the negative prompt defaults to the t2i script's (""). */
export const metaqueryGenerateOptionsSchema = z
  .object({ ...sampleOptionsShape, negativePrompt: z.string().default(GENERATE_NEGATIVE_PROMPT), ...sampleSizeShape })
  .strict();
export type MetaqueryGenerateOptions = z.input<typeof metaqueryGenerateOptionsSchema>;
export type ParsedMetaqueryGenerateOptions = z.output<typeof metaqueryGenerateOptionsSchema>;

/** `edit`: the shared sampler and edit-source options; the negative prompt defaults to the editing script's. */
export const metaqueryEditOptionsSchema = z.object({ ...sampleOptionsShape, negativePrompt: z.string().default(EDIT_NEGATIVE_PROMPT), ...editSourceShape }).strict();
export type MetaqueryEditOptions = z.input<typeof metaqueryEditOptionsSchema>;
export type ParsedMetaqueryEditOptions = z.output<typeof metaqueryEditOptionsSchema>;
