// A stand-in for Stripe.js (served for https://js.stripe.com/* by a Playwright route in
// tests/browser/checkout.test.ts): the calls the console makes — Stripe(pk), elements({ clientSecret }),
// create('payment').mount(selector), confirmPayment({ elements, redirect }) — with confirmPayment
// posting to Stripe's API as Stripe.js does (publishable key and client secret in a form body),
// which the test routes to the local fake Stripe. No network.
window.Stripe = (key) => {
  let clientSecret = '';
  return {
    _registerWrapper() {},
    elements(options) {
      clientSecret = options.clientSecret;
      return {
        create() {
          return {
            mount(selector) {
              const input = document.createElement('input');
              input.setAttribute('aria-label', 'Card number');
              input.name = 'cardnumber';
              document.querySelector(selector).append(input);
            },
          };
        },
      };
    },
    async confirmPayment() {
      const id = clientSecret.split('_secret_')[0];
      const res = await fetch(`https://api.stripe.com/v1/payment_intents/${id}/confirm`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ key, client_secret: clientSecret }).toString(),
      });
      const body = await res.json();
      return res.ok ? { paymentIntent: body } : { error: body.error };
    },
  };
};
