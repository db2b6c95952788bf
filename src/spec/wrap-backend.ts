import type { Backend, BackendSession, DeviceTensor, Feed, GraphSource, RunOptions, SessionOptions } from './backend.js';

/** One graph run as a middleware sees it; `run()` runs the wrapped session (with other feeds or options if given). */
export interface WrappedRun {
  /** The graph's name (`llm`, `vae_decoder`, …). */
  readonly graph: string;
  readonly feeds: Readonly<Record<string, Feed>>;
  readonly options: RunOptions | undefined;
  readonly session: BackendSession;
  run(feeds?: Readonly<Record<string, Feed>>, options?: RunOptions): Promise<Record<string, DeviceTensor>>;
}

/** One session creation as a middleware sees it; `createSession()` creates it with the wrapped backend. */
export interface WrappedCreateSession {
  readonly graph: GraphSource;
  readonly options: SessionOptions | undefined;
  createSession(graph?: GraphSource, options?: SessionOptions): Promise<BackendSession>;
}

/**
 * What `wrapBackend` adds around a backend (in the spirit of vercel/ai's `wrapLanguageModel`):
 * each hook receives the call and the function that performs it, and returns its result, so it can
 * time, trace, record, change inputs, replace outputs or fail the call.
 */
export interface BackendMiddleware {
  /** Name suffix for the wrapped backend (`node-ort+trace`); default `wrapped`. */
  readonly name?: string;
  wrapRun?(call: WrappedRun): Promise<Record<string, DeviceTensor>>;
  wrapCreateSession?(call: WrappedCreateSession): Promise<BackendSession>;
}

/**
 * A backend whose session creations and graph runs go through `middleware`; everything else
 * (init, device, live-session count, dispose) is the wrapped backend's. Pass the result to
 * `UniPic.load({ backend })`; the caller keeps ownership and disposes the inner backend.
 */
export function wrapBackend(backend: Backend, middleware: BackendMiddleware): Backend {
  const wrapSession = (graph: string, session: BackendSession): BackendSession => {
    if (!middleware.wrapRun) return session;
    const wrapRun = middleware.wrapRun.bind(middleware);
    return {
      get inputNames() {
        return session.inputNames;
      },
      get outputNames() {
        return session.outputNames;
      },
      dispose: () => session.dispose(),
      run: (feeds, options) => wrapRun({ graph, feeds, options, session, run: (f = feeds, o = options) => session.run(f, o) }),
    };
  };
  return {
    specificationVersion: backend.specificationVersion,
    name: `${backend.name}+${middleware.name ?? 'wrapped'}`,
    init: (options) => backend.init(options),
    async createSession(graph, options) {
      const create = (g: GraphSource = graph, o: SessionOptions | undefined = options) => backend.createSession(g, o);
      const session = middleware.wrapCreateSession ? await middleware.wrapCreateSession({ graph, options, createSession: create }) : await create();
      return wrapSession(graph.name, session);
    },
    get liveSessions() {
      return backend.liveSessions;
    },
    dispose: () => backend.dispose(),
  };
}
