// Opens the records behind a clicked chart element or table cell: the entity's record list
// with the element's filter in the URL (Records reads ?filter=).
import { useNavigate } from 'react-router';
import { useDefinition } from '../api/defs';
import type { EntityDef, ReportData, ReportDef } from '../api/types';
import { drillFilter, drillUrl } from '../lib/charts';
import { optionValue } from '../lib/labels';

/** A drill handler for report rows (undefined until the report is known); extra is a dashboard's global filter. */
export function useDrill(app: string, report: ReportDef | null | undefined, data: ReportData | null | undefined, extra?: unknown): ((row: number) => void) | undefined {
  const navigate = useNavigate();
  const ent = useDefinition<EntityDef>(app, 'entities', report?.entity ?? '', !!report?.entity);
  if (!report?.entity || !data) return undefined;
  const def = ent.data?.def;
  const stages = def?.stages as { field?: string; order?: string[] } | undefined;
  const field = (report.params?.field as string | undefined) || stages?.field;
  // the stage order: the entity's stages, or the options of the select field the report names
  const order = field && field === stages?.field ? stages?.order : def?.fields.find((f) => f.key === field)?.options?.map(optionValue);
  return (row: number) => {
    const f = drillFilter(report, data, row, { stageField: field, stageOrder: order, extra });
    if (f) navigate(drillUrl(app, report.entity, f));
  };
}
