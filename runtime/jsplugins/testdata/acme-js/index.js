const operations = {
  create_contact(params, ctx) {
    const r = http.fetch(ctx.credentials.base_url + '/contacts', {
      method: 'POST',
      headers: {'X-Api-Key': ctx.credentials.api_key, 'Idempotency-Key': ctx.idempotency_key},
      body: {name: params.name, vip: params.vip},   // an object body is sent as JSON
    });
    log('acme answered', r.status);
    // "retry:" marks an error worth retrying; other exceptions fail the step for good.
    if (!r.ok) throw new Error((r.status >= 500 ? 'retry: ' : '') + 'ACME answered ' + r.status);
    return {id: r.json().id};
  },
};

function test(ctx) {
  const r = http.fetch(ctx.credentials.base_url + '/me', {headers: {'X-Api-Key': ctx.credentials.api_key}});
  if (r.status !== 200) throw new Error('ACME rejected the key: ' + r.status);
}
