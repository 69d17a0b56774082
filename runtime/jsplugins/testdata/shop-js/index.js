// Signed GET: sign = hex HMAC-SHA256(app_secret, "<app_key>\n<timestamp>\n<path>").
function signedGet(ctx, path) {
  const ts = String(Date.parse(ctx.now));
  const sign = crypto.hmac('sha256', ctx.credentials.app_secret, ctx.credentials.app_key + '\n' + ts + '\n' + path, 'hex');
  const r = http.fetch(ctx.credentials.base_url + path, {
    headers: {'X-App-Key': ctx.credentials.app_key, 'X-Timestamp': ts, 'X-Sign': sign},
  });
  if (!r.ok) throw new Error((r.status >= 500 ? 'retry: ' : '') + 'shop answered ' + r.status);
  return r.json();
}

// poll(ctx, state): ctx.trigger is the trigger id, ctx.params its parameters; state is what the
// previous poll returned (null the first time). Answer the new items, oldest first, and the
// next state.
function poll(ctx, state) {
  const since = state ? state.last_id : 0;
  const page = signedGet(ctx, '/stores/' + encodeURIComponent(ctx.params.store) +
    '/orders?status=' + ctx.params.status + '&after=' + since);
  if (state === null) {
    // first poll: remember where the list ends, start no runs for old orders
    return {items: [], state: {last_id: page.last_id}};
  }
  return {
    items: page.orders,
    ids: page.orders.map(o => String(o.id)),   // one run per order id, ever
    state: {last_id: page.orders.length ? page.orders[page.orders.length - 1].id : since},
  };
}

// options(operation, param, params, ctx): the choices of a parameter marked dynamic_options
// (here the trigger's "store"; operation is the trigger id).
function options(operation, param, params, ctx) {
  return signedGet(ctx, '/stores').stores.map(s => ({value: s.id, label: s.name}));
}
