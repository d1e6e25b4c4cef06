/** Values `test/integration/globalSetup.ts` provides to integration tests through `inject()`. */
declare module 'vitest' {
  export interface ProvidedContext {
    /** The local system's HTTP endpoint, `http://127.0.0.1:<port>`. */
    esUrl: string;
    /** The local Lambda Invoke API (`http://127.0.0.1:<port>`), serving the function `command-ingress`. */
    lambdaUrl: string;
    /** Password of the superuser `elastic`. */
    elasticPassword: string;
    /**
     * The environment the functions run with (region, dummy credentials, endpoints,
     * TABLE_NAME, COMMAND_QUEUE_URL, …). SQS queue URLs use `sqs.<region>.localhost`:
     * a test process that talks to SQS must call fauxqs's `interceptLocalhostDns()` or
     * give its client `endpoint: awsEnv.LOCAL_SQS_ENDPOINT`.
     */
    awsEnv: Record<string, string>;
    /** The file the local system appends events out to (JSON lines, the EventBridge envelope). */
    eventsFile: string;
  }
}

export {};
