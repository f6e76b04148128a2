// The simulated provider: no money moves (local development, tests, the original service). Its
// payments are paid the moment they are written (service.registerMany), so it is never asked
// about one, and a refund has nothing to give back.
import { randomToken } from '../../../lib/random';
import { type PaymentProvider, ProviderError } from './types';

export const simulatedProvider: PaymentProvider = {
  name: 'simulated',
  async create() {
    return { id: `tx_${randomToken(18)}`, checkout: null };
  },
  async retrieve(id) {
    throw new ProviderError('refused', `simulated: payment ${id} is settled locally`);
  },
  async refund() {},
  async cancelUnpaid() {},
  async verifyWebhook() {
    throw new ProviderError('invalid_signature', 'simulated: no webhooks');
  },
};
