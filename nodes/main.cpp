// The stock troupe binary: every node and every client command, with the example actor types.
#include "examples/actors/examples.hpp"
#include "nodes/troupe_node.hpp"

int main(int argc, char** argv) {
  troupe::node node{argc, argv};
  troupe::examples::register_examples(node.types());
  return node.run();
}
