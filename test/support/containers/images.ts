import { execFileSync } from 'node:child_process';

export interface TestImages {
  kafka: string;
  openbao: string;
}

/**
 * The Kafka and OpenBao images: PRISM_TEST_KAFKA_IMAGE / PRISM_TEST_OPENBAO_IMAGE when set (scripts/testcontainers/run.sh
 * builds them first and sets both), else built or found current by scripts/testcontainers/images.sh (idempotent, ~2 s
 * when nothing changed; the first build ~1 min). The images are the engine's whose CLI images.sh uses (podman, or
 * docker with PRISM_TC_ENGINE=docker): the one behind DOCKER_HOST must be the same.
 */
export function testImages(root: string): TestImages {
  const kafka = process.env.PRISM_TEST_KAFKA_IMAGE;
  const openbao = process.env.PRISM_TEST_OPENBAO_IMAGE;
  if (kafka !== undefined && openbao !== undefined) return { kafka, openbao };
  const out = execFileSync('bash', [`${root}/scripts/testcontainers/images.sh`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const value = (key: string) => {
    const found = new RegExp(`^${key}=(\\S+)$`, 'm').exec(out)?.[1];
    if (found === undefined) throw new Error(`scripts/testcontainers/images.sh printed no ${key}=...: ${out}`);
    return found;
  };
  return { kafka: kafka ?? value('KAFKA_IMAGE'), openbao: openbao ?? value('OPENBAO_IMAGE') };
}
