// The design card's usage on local (nspawn) nodes: provision-node local 2 | run-actions groups/monitoring.
import { designCardTest } from './design-card.js';

designCardTest('local', 25); // a fresh CI machine builds the rootfs first
