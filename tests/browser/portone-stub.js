// A stand-in for PortOne's browser SDK (served for https://cdn.portone.io/* by a Playwright route in
// tests/browser/checkout.test.ts): window.PortOne.requestPayment(request), which here "pays" by
// posting the request to https://api.portone.io/__fake/pay/{paymentId}, routed by the test to the
// local fake PortOne (as the customer paying in the PG's window would). No network.
window.PortOne = {
  async requestPayment(request) {
    const res = await fetch(`https://api.portone.io/__fake/pay/${encodeURIComponent(request.paymentId)}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(request),
    });
    if (!res.ok) return { transactionType: 'PAYMENT', code: 'FAILURE_TYPE_PG', message: await res.text(), paymentId: request.paymentId };
    return { transactionType: 'PAYMENT', txId: crypto.randomUUID(), paymentId: request.paymentId };
  },
};
