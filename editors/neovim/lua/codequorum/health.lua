-- :checkhealth codequorum: Neovim, the server executable and its version, the models, and the
-- connection as it stands.
local M = {}

-- vim.health (0.10+ start/ok/..., 0.8-0.9 report_*) or Neovim 0.7's require("health").
local function reporter()
  local health = vim.health or require("health")
  return {
    start = health.start or health.report_start,
    ok = health.ok or health.report_ok,
    warn = health.warn or health.report_warn,
    error = health.error or health.report_error,
    info = health.info or health.report_info,
  }
end

local function run(command)
  local output = vim.fn.system(command)
  return vim.v.shell_error == 0, vim.trim(output)
end

local function check_neovim(report, config)
  local version = require("codequorum.remote").neovim_version()
  if vim.fn.has("nvim-0.7") ~= 1 then
    report.error("Neovim " .. version .. ": codequorum needs 0.7 or newer")
  elseif config.address and not require("codequorum.remote").supported()
    and not (require("codequorum.remote").parse(config.address) or {}).bridged then
    report.error(("Neovim %s cannot connect to %s: that needs 0.8 or newer (vim.lsp.rpc.connect)"):format(version, config.address))
  else
    local inline = vim.lsp.inline_completion and config.native and "Neovim's inline completion" or "virtual text"
    report.ok(("Neovim %s; suggestions as %s"):format(version, inline))
  end
end

-- The codequorum executable in `cmd`: the first word named codequorum (cmd may wrap it, as in
-- { "uv", "run", "codequorum", "serve" }), else the command itself.
local function server_executable(cmd)
  for _, word in ipairs(cmd) do
    if vim.fn.fnamemodify(word, ":t"):match("^codequorum") then
      return word
    end
  end
  return cmd[1]
end

local function check_local_server(report, config)
  local program = server_executable(config.cmd)
  local executable = vim.fn.exepath(program)
  if executable == "" then
    report.error(("the server executable `%s` is not found"):format(program), {
      "install codequorum (pip install codequorum) and put it on the PATH",
      "or set `cmd`, e.g. { \"/path/to/.venv/bin/codequorum\", \"serve\" }",
    })
    return
  end
  local ok, version = run({ executable, "--version" })
  if ok then
    report.ok(("%s (%s)"):format(version, executable))
  else
    report.error(("`%s --version` failed: %s"):format(executable, version))
    return
  end
  local listed, output = run({ executable, "models", "list", "--json" })
  local decoded, models = pcall(vim.fn.json_decode, listed and output or "")
  if not decoded or type(models) ~= "table" then
    report.warn("could not list the models: " .. output)
    return
  end
  for _, model in ipairs(models) do
    if model.status == "installed" then
      report.ok(("model %s installed"):format(model.name))
    else
      report.warn(("model %s is %s"):format(model.name, model.status), { "run `codequorum models install`" })
    end
  end
end

-- A bridged address: `codequorum connect` must be there, and the CA file readable.
local function check_bridge(report, config, address)
  local cmd = require("codequorum.remote").bridge_cmd(config)
  local executable = vim.fn.exepath(cmd[1])
  if executable == "" then
    report.error(("`%s` (for `codequorum connect`) is not found"):format(cmd[1]), {
      "install codequorum (pip install 'codequorum[ws]') and put it on the PATH",
      "or set `connect_cmd`, e.g. { \"/path/to/.venv/bin/codequorum\", \"connect\" }",
    })
    return
  end
  report.ok(("%s:// through `%s connect` (%s)"):format(address.scheme, server_executable(cmd), executable))
  if config.remote_ca_file then
    local ca = vim.fn.expand(config.remote_ca_file)
    if vim.fn.filereadable(ca) == 1 then
      report.ok(("the server's certificate is checked against %s (remote_ca_file)"):format(ca))
    else
      report.error(("the CA file %s (remote_ca_file) cannot be read"):format(ca))
    end
  elseif address.scheme == "tls" or address.scheme == "wss" then
    report.info("the server's certificate is checked against the system's CAs (set `remote_ca_file` for a private CA)")
  end
end

local function check_remote(report, config)
  local remote = require("codequorum.remote")
  local address, problem = remote.parse(config.address)
  if not address then
    report.error(problem)
    return
  end
  if address.bridged then
    check_bridge(report, config, address)
  else
    report.ok("tcp:// with Neovim's own client (vim.lsp.rpc.connect)")
  end
  local token, token_problem = remote.token(config)
  if token_problem then
    report.error(token_problem)
  elseif token then
    report.ok(("remote server %s, with a token (from %s)"):format(config.address,
      vim.env[config.token_env or ""] and ("$" .. config.token_env) or config.token_file))
  else
    report.warn(("remote server %s, without a token"):format(config.address),
      { ("a server not on loopback asks for one: set $%s or `token_file`"):format(config.token_env or "CODEQUORUM_TOKEN") })
  end
end

local function check_connection(report)
  local status = require("codequorum.state").get()
  local client = require("codequorum.client").get()
  local line = require("codequorum.state").describe()
  if status.kind == "ready" and client then
    report.ok(line)
  elseif status.kind == "error" then
    report.error(line)
  elseif status.kind == "disabled" then
    report.info(line .. " (:Codequorum enable)")
  else
    report.warn(line)
  end
end

function M.check()
  local report = reporter()
  local config = require("codequorum").config()
  report.start("codequorum")
  check_neovim(report, config)
  if config.address then
    check_remote(report, config)
  else
    check_local_server(report, config)
  end
  check_connection(report)
end

return M
