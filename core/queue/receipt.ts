/**
 * A queue receipt names the session that delivered the message, the ownership of its partition and the message:
 * `<session id>:<generation>:<partition>:<offset>`. Session ids are `<subscriber>~<8 hex>` with a subscriber id of
 * [a-zA-Z0-9._-], so the text splits unambiguously.
 */
export interface Receipt {
  sessionId: string;
  generation: number;
  partition: number;
  offset: string;
}

const pattern = /^(.+):(\d{1,9}):(\d{1,7}):(\d{1,19})$/;

/** Parses a receipt; undefined when it is not one of ours. */
export function parseReceipt(receipt: string): Receipt | undefined {
  const m = pattern.exec(receipt);
  return m === null ? undefined : { sessionId: m[1]!, generation: Number(m[2]), partition: Number(m[3]), offset: m[4]! };
}
