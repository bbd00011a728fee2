-- A running server to connect to instead of starting one: tcp://HOST:PORT (Neovim's own
-- vim.lsp.rpc.connect), or tls://HOST:PORT, ws://... and wss://... through `codequorum connect`,
-- started as the LSP command (TLS and WebSocket are its job); and the token the server asks
-- for, from an environment variable or a file (never from the config).
local M = {}

local WEBSOCKET_PORTS = { ws = 80, wss = 443 }
local EXAMPLES = "tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/ or wss://HOST/PATH"

local function host_and_port(rest)
  local host, port = rest:match("^%[([^%]]+)%]:(%d+)")
  if not host then
    host, port = rest:match("^([^:/%[%]]+):(%d+)")
  end
  return host, tonumber(port)
end

--- { scheme, host, port, bridged } for an address; nil and a message when it is not one.
--- `bridged`: reached through `codequorum connect` (tls, ws, wss), not vim.lsp.rpc.connect.
function M.parse(address)
  local scheme, rest = address:match("^(%a+)://(.*)$")
  scheme = scheme and scheme:lower()
  if scheme == "tcp" or scheme == "tls" then
    local host, port = host_and_port(rest)
    local tail = host and rest:gsub("^%[?[^%]/]*%]?:%d+", "", 1)
    if host and port > 0 and port < 65536 and (tail == "" or tail == "/") then
      return { scheme = scheme, host = host, port = port, bridged = scheme == "tls" }
    end
    return nil, ("%s needs a host and a port: %s://HOST:PORT"):format(address, scheme)
  end
  if WEBSOCKET_PORTS[scheme] then
    local authority = rest:match("^([^/?#]*)")
    local host, port = host_and_port(authority)
    if not host then -- no port: the scheme's
      host = authority:match("^%[([^%]]+)%]$") or (not authority:find("[:%[%]]") and authority) or nil
      port = WEBSOCKET_PORTS[scheme]
    end
    if host and host ~= "" and not authority:find("@") and port > 0 and port < 65536 then
      return { scheme = scheme, host = host, port = port, bridged = true }
    end
    return nil, ("%s is not a WebSocket address: %s://HOST[:PORT][/PATH]"):format(address, scheme)
  end
  return nil, ("%s is not an address: use %s"):format(address, EXAMPLES)
end

--- The `codequorum connect` command for a bridged address: `connect_cmd`, or the words of
--- `cmd` before "serve" (the same codequorum, e.g. a virtualenv's) followed by "connect". The
--- token is never an argument (`ps` shows those): the bridge reads $token_env or token_file.
function M.bridge_cmd(config)
  local cmd = config.connect_cmd and vim.deepcopy(config.connect_cmd)
  if not cmd then
    cmd = {}
    for _, word in ipairs(config.cmd) do
      if word == "serve" then
        break
      end
      table.insert(cmd, word)
    end
    if #cmd == #config.cmd then
      cmd = { "codequorum" }
    end
    table.insert(cmd, "connect")
  end
  table.insert(cmd, config.address)
  if config.token_env and config.token_env ~= "" then
    vim.list_extend(cmd, { "--token-env", config.token_env })
  end
  if config.token_file then
    vim.list_extend(cmd, { "--token-file", vim.fn.expand(config.token_file) })
  end
  if config.remote_ca_file then
    vim.list_extend(cmd, { "--ca-file", vim.fn.expand(config.remote_ca_file) })
  end
  return cmd
end

--- `cmd` for the client: the bridge, started by a function (Neovim 0.8+) so that its exit
--- status goes to `on_bridge_exit`, not to Neovim's "Client quit with exit code" warning (the
--- plugin says what a status means, and retries); the command itself on 0.7.
function M.bridge_rpc(cmd, cwd, on_bridge_exit)
  if not M.supported() then
    return cmd
  end
  return function(dispatchers)
    local wrapped = vim.tbl_extend("force", {}, dispatchers, {
      on_exit = function(code, signal)
        on_bridge_exit(code, signal)
        dispatchers.on_exit(0, signal)
      end,
    })
    if vim.fn.has("nvim-0.10") == 1 then
      return vim.lsp.rpc.start(cmd, wrapped, { cwd = cwd })
    end
    return vim.lsp.rpc.start(cmd[1], vim.list_slice(cmd, 2), wrapped, { cwd = cwd })
  end
end

function M.neovim_version()
  local version = vim.version()
  return ("%d.%d.%d"):format(version.major, version.minor, version.patch)
end

--- Whether this Neovim can connect to a server over TCP (vim.lsp.rpc.connect, 0.8+).
function M.supported()
  return vim.lsp.rpc.connect ~= nil
end

local function trim(text)
  return (text:gsub("^%s+", ""):gsub("%s+$", ""))
end

--- The token: $`token_env` if set, else the contents of `token_file`; nil when neither gives
--- one (a server on loopback asks for none). A file that cannot be read is an error.
function M.token(config)
  local from_env = config.token_env and vim.env[config.token_env]
  if from_env and trim(from_env) ~= "" then
    return trim(from_env)
  end
  if not config.token_file then
    return nil
  end
  local path = vim.fn.expand(config.token_file)
  local ok, lines = pcall(vim.fn.readfile, path)
  if not ok then
    return nil, ("cannot read the token file %s (token_file)"):format(path)
  end
  local token = trim(table.concat(lines, "\n"))
  if token == "" then
    return nil, ("the token file %s (token_file) is empty"):format(path)
  end
  return token
end

return M
