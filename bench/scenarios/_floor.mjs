// The local runtime's own floor, measured next to the API's scenarios so their numbers can be read
// against it: a route that touches no storage (an unknown path: a 404 problem+json from the worker)
// and /health (one trivial query to the database). Anything the API does costs at least this much here.
export default async function floor() {
  return [
    { name: 'floor: 404, no storage', path: '/no-such-route', okStatuses: [404] },
    { name: 'floor: GET /health (one trivial database query)', path: '/health' },
  ];
}
