import { ConnectionPool, consumerGroupDescribeV0, findCoordinatorV6 } from '@platformatic/kafka';

/**
 * Members of consumer-protocol groups (KIP-848), as the brokers' coordinators describe them (ConsumerGroupDescribe;
 * the classic DescribeGroups does not list them). Unknown or dead groups count zero.
 */
export async function groupMemberCount(bootstrap: string, groups: string[]): Promise<number> {
  if (groups.length === 0) return 0;
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(':')), Number(bootstrap.slice(bootstrap.lastIndexOf(':') + 1))];
  const pool = new ConnectionPool('test-group-members');
  try {
    const any = await pool.get({ host, port });
    const found = await findCoordinatorV6.api.async(any, 0, groups);
    const byNode = new Map<string, string[]>();
    for (const c of found.coordinators) {
      const key = `${c.host}:${c.port}`;
      byNode.set(key, [...(byNode.get(key) ?? []), c.key]);
    }
    let n = 0;
    for (const [node, ids] of byNode) {
      const i = node.lastIndexOf(':');
      const connection = await pool.get({ host: node.slice(0, i), port: Number(node.slice(i + 1)) });
      const res = await consumerGroupDescribeV0.api.async(connection, ids, false).catch((err: { response?: Awaited<ReturnType<typeof consumerGroupDescribeV0.api.async>> }) => {
        if (err.response === undefined) throw err;
        return err.response;
      });
      for (const g of res.groups) n += g.members.length;
    }
    return n;
  } finally {
    await pool.close();
  }
}
