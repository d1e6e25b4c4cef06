/**
 * The command-ingress function (placeholder while issue 11 is built): refuses every event.
 */
export const handler = async (): Promise<never> => {
  throw new Error('the command ingress is not implemented yet');
};
