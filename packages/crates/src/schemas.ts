import { z } from 'zod';

/**
 * An absolute path of plain characters (letters, digits, `. _ / -`): crates put paths into configuration files
 * that other programs parse (shell-like environment files, zoo.cfg, my.cnf), where quotes and spaces would break.
 * @example safePath.parse('/var/lib/zookeeper')
 */
export const safePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._/-]*$/, 'must be an absolute path of letters, digits, . _ / -')
  .refine((path) => !/\/\.\.?(\/|$)/.test(path), 'no . or .. segments');
