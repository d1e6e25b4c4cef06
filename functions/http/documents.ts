import { httpFunction } from '../../lib/http/chain.ts';
import { documentsRoutes } from '../../lib/http/routes/documents.ts';

/** The `documents` HTTP function (API Gateway routes with `fn: 'documents'` in `lib/runtime/topology.ts`). */
export const handler = httpFunction('documents', documentsRoutes);
