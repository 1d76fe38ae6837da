// cluster-key-slot ships no types; this is its whole API.
declare module 'cluster-key-slot' {
  /** The Redis Cluster slot (0-16383) of a key, honouring hash tags. */
  function generate(key: string | Buffer): number;
  namespace generate {
    /** The slot shared by all `keys`, or -1 when they span slots. */
    function generateMulti(keys: Array<string | Buffer>): number;
  }
  export = generate;
}
