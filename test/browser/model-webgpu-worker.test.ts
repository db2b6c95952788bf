import { describeWebgpuCalls } from './support/webgpu-suite.js';

describeWebgpuCalls('worker');
