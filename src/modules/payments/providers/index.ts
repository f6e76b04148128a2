// The payment provider of a unit of work: the configured one for new payments, and for an existing
// payment the one that took it (a deployment that switched providers still refunds the old ones,
// as long as that provider's keys are still configured).
import type { PaymentProviderName } from '../../../contract';
import type { Config } from '../../../env';
import { ApiError } from '../../../lib/problem';
import { portoneProvider } from './portone';
import { simulatedProvider } from './simulated';
import { stripeProvider } from './stripe';
import type { PaymentProvider } from './types';

export * from './types';

export function providerFor(config: Config, name: PaymentProviderName = config.PAYMENT_PROVIDER): PaymentProvider {
  if (name === 'simulated') return simulatedProvider;
  if (name === 'stripe' && config.STRIPE_SECRET_KEY) return stripeProvider(config);
  if (name === 'portone' && config.PORTONE_API_SECRET) return portoneProvider(config);
  throw new ApiError('PAYMENT_PROVIDER_ERROR', { detail: `the ${name} provider is not configured` });
}
