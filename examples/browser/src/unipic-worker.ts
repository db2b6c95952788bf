// The model lives here, so generating never freezes the page. This is the whole worker.
import { exposeUniPic } from 'unipic/worker';

exposeUniPic();
