import { describe, expect, it } from 'vitest';
import { connectorsWithCredentials, credentialPayload } from './credentials';

describe('credentials', () => {
  it('lists only the connectors that take a credential', () => {
    const catalog = {
      connectors: [
        { id: 'http', label: { en: 'HTTP' }, operations: [] },
        { id: 'dingtalk', label: { en: 'DingTalk', 'zh-CN': '钉钉' }, credentials: [{ key: 'webhook_url', type: 'string' }, { key: 'secret', type: 'secret' }], operations: [] },
        { id: 'email', credentials: [], operations: [] },
        null,
      ],
    };
    expect(connectorsWithCredentials(catalog).map((c) => c.id)).toEqual(['dingtalk']);
    expect(connectorsWithCredentials(catalog)[0].credentials.map((p) => p.key)).toEqual(['webhook_url', 'secret']);
    expect(connectorsWithCredentials(undefined)).toEqual([]);
    expect(connectorsWithCredentials({ connectors: 'x' })).toEqual([]);
  });

  it('sends the fields typed in, trimmed; empty ones keep their saved value', () => {
    const fields = [{ key: 'webhook_url' }, { key: 'secret' }, { key: 'port', type: 'number' }];
    expect(credentialPayload({ webhook_url: ' https://oapi.dingtalk.com/robot/send?access_token=x ', secret: '', port: 465, other: 'dropped' }, fields)).toEqual({
      webhook_url: 'https://oapi.dingtalk.com/robot/send?access_token=x',
      port: 465,
    });
    expect(credentialPayload({ secret: '   ', webhook_url: null }, fields)).toEqual({});
  });
});
