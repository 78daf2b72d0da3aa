// The design card's usage on vmfest (QEMU) VMs: provision-node vmfest 2 | run-actions groups/monitoring.
// Under TCG two VMs boot one after the other and install the exporter slowly: this file takes minutes.
import { designCardTest } from './design-card.js';

designCardTest('vmfest', 60); // the first run also builds the kernel rootfs and the base image
