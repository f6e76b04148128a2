// Accounts: the per-request auth check (one D1 query for user + session) under load.
export default async function accounts(ctx) {
  const [token] = await ctx.userTokens(1);
  return [{ name: 'GET /api/users/me', path: '/api/users/me', token }];
}
