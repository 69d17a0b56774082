import { createContext, useContext } from 'react';
import type { EntityDef } from '../../api/types';

/** An upstream node as the expression editor offers it: steps.<id>.<output>. */
export interface UpstreamNode {
  id: string;
  name: string;
  type: string;
  /** Output keys known from the node's params or the last test run. */
  outputs: string[];
}

/** What the property widgets of one node may refer to. */
export interface FlowCtx {
  app: string;
  /** Entity definitions of the app by slug (labels and fields). */
  entities: Record<string, EntityDef>;
  entityList: { slug: string; label: string }[];
  reports: { slug: string; label: string }[];
  flows: { slug: string; label: string }[];
  /** Entity of the flow's trigger (record, stage and form triggers). */
  triggerEntity?: string;
  upstream: UpstreamNode[];
  /** Values of the last test run (trigger and steps) for previews. */
  sample?: { trigger?: unknown; steps?: Record<string, unknown> };
}

export const FlowContext = createContext<FlowCtx>({ app: '', entities: {}, entityList: [], reports: [], flows: [], upstream: [] });

export function useFlowCtx() {
  return useContext(FlowContext);
}
