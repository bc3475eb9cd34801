import { runProcess } from '@ticketing/platform';
import { startWebServer } from './web-server';

void runProcess('web-app', () => startWebServer());
