// Every wine-cellar node: Debian 12 (the provider's cached image), small.
import { nodeSpec } from '@forklift/render-crate';

export default nodeSpec({ image: 'debian-12', hardware: { minCores: 1, minRamMiB: 512 } });
