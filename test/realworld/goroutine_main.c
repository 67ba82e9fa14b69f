/* Runs a third-party test program inside a goroutine: its main() is renamed
 * goroutine_realworld_main when it is compiled (see realworld.sh) and called
 * from the main goroutine, whose stack starts at 2 KiB. */
#include <goroutine/goroutine.h>

int goroutine_realworld_main(int argc, char **argv);

struct program {
  int argc;
  char **argv;
  int status;
};

static void run_program(void *arg) {
  struct program *p = arg;
  p->status = goroutine_realworld_main(p->argc, p->argv);
}

int main(int argc, char **argv) {
  struct program p = {argc, argv, 0};
  goroutine_run(run_program, &p);
  return p.status;
}
