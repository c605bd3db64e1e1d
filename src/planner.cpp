// Planner search (being written).
#include "c1r/planner.hpp"
