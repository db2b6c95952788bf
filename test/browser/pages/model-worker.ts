// The application's worker script: everything it needs is this call (bundled like any module).
import { exposeUniPic } from 'unipic/worker';

exposeUniPic();
