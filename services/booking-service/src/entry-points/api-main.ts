import '../instrumentation';
import { runProcess } from '@ticketing/platform';
import { startBookingApi } from './api';

void runProcess('booking-api', () => startBookingApi());
