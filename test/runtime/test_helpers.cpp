#include "test_helpers.h"

#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace test {
namespace {

std::string read_all(int fd) {
  std::string s;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0)
      return s;
    s.append(buf, static_cast<size_t>(n));
  }
}

} // namespace

ChildResult run_fatal_case(const std::string &scenario,
                           const std::string &env) {
  char out_path[] = "/tmp/goroutine-test-out-XXXXXX";
  char err_path[] = "/tmp/goroutine-test-err-XXXXXX";
  const int out = mkstemp(out_path);
  const int err = mkstemp(err_path);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err, STDERR_FILENO);

  // The parent's environment (which may carry GOROUTINE_DEBUG), plus env.
  std::vector<std::string> vars;
  for (char **e = environ; *e != nullptr; ++e)
    vars.emplace_back(*e);
  if (!env.empty()) {
    const std::string key = env.substr(0, env.find('=') + 1);
    std::erase_if(vars,
                  [&](const std::string &v) { return v.starts_with(key); });
    vars.push_back(env);
  }
  std::vector<char *> envp;
  for (std::string &v : vars)
    envp.push_back(v.data());
  envp.push_back(nullptr);

  std::string path = GOROUTINE_FATAL_CASES_PATH;
  std::string arg = scenario;
  char *argv[] = {path.data(), arg.data(), nullptr};
  pid_t pid = -1;
  ChildResult r;
  if (posix_spawn(&pid, path.c_str(), &actions, nullptr, argv, envp.data()) ==
      0) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status))
      r.exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
      r.signal = WTERMSIG(status);
  }
  posix_spawn_file_actions_destroy(&actions);
  lseek(out, 0, SEEK_SET);
  lseek(err, 0, SEEK_SET);
  r.out = read_all(out);
  r.err = read_all(err);
  close(out);
  close(err);
  unlink(out_path);
  unlink(err_path);
  return r;
}

} // namespace test
