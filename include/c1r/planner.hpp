// Searches layer settings that map an input length to an output length (SPEC §6), using the plan's length rules.
#pragma once
