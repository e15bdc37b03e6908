/**
 * The edits firewalld quick fixes make, in the format's own syntax (an allow rule placed where it takes
 * effect, a port set). Nothing uses it yet: the firewall quick fixes of issue 11 land here.
 */
export {};
