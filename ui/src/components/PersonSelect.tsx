import { useQuery } from '@tanstack/react-query';
import { Select } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api/client';

/** One entry of GET /api/v1/apps/{app}/people. */
export interface Person {
  id: string;
  name: string;
  team_id?: string | null;
  team_name?: string | null;
}

/** The app's people matching q (names and teams, for pickers). */
export function usePeople(app: string, q: string) {
  return useQuery({
    queryKey: ['people', app, q],
    enabled: !!app,
    queryFn: async () => ((await api<{ items?: Person[] }>(`/api/v1/apps/${encodeURIComponent(app)}/people`, { query: { q: q || undefined, limit: 50 } }))?.items ?? []),
  });
}

/** Options for people: "name · team"; a selected id that is not among them keeps showing. */
export function personOptions(people: Person[], selected: string[]): { value: string; label: string }[] {
  const opts = people.map((p) => ({ value: p.id, label: p.team_name ? `${p.name} · ${p.team_name}` : p.name }));
  for (const id of selected) if (id && !opts.some((o) => o.value === id)) opts.push({ value: id, label: id });
  return opts;
}

interface Props {
  app: string;
  value?: string | string[] | null;
  onChange?: (v: string | string[] | null) => void;
  multiple?: boolean;
  disabled?: boolean;
  'data-testid'?: string;
}

/** A searchable picker of the app's people (user fields, record owner). */
export default function PersonSelect({ app, value, onChange, multiple, disabled, ...rest }: Props) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const people = usePeople(app, q);
  const selected = (Array.isArray(value) ? value : value ? [value] : []).map(String);
  return (
    <Select
      showSearch={{ filterOption: false, onSearch: setQ }}
      allowClear
      mode={multiple ? 'multiple' : undefined}
      loading={people.isFetching}
      placeholder={t('people.pick')}
      notFoundContent={people.isError ? t('people.unavailable') : undefined}
      options={personOptions(people.data ?? [], selected)}
      value={multiple ? selected : (selected[0] ?? undefined)}
      onChange={(v) => onChange?.(v ?? null)}
      disabled={disabled}
      style={{ width: '100%', minWidth: 200 }}
      data-testid={rest['data-testid']}
    />
  );
}
