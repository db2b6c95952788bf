import { describeWebgpuCalls } from './helpers/webgpu-suite.js';

describeWebgpuCalls('worker');
