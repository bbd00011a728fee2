-- The codequorum language server: one client for the whole Neovim session, so that the
-- models load once, attached to every buffer that asks for suggestions. It is started here
-- (`cmd`, over stdio) or, with `address`, connected to a running server: over TCP by Neovim
-- itself, over TLS or WebSocket through `codequorum connect` (a bridge started like a local
-- server, over stdio). When the server or the bridge goes away the client comes back by
-- itself, after 1 s, then 2, 4, ... up to 30 s.
local remote = require("codequorum.remote")
local state = require("codequorum.state")

local M = {}

--- Called with (bufnr, client) for each buffer the client attaches to (set by init.lua).
M.on_buffer = function() end

local NAME = "codequorum"
local FEEDBACK = "codequorum/feedback"
local STATUS = "codequorum/status"
local EXECUTE = "workspace/executeCommand"
local FIRST_RETRY_MS, MAX_RETRY_MS = 1000, 30000
local CONNECT_TIMEOUT_MS = 15000 -- a remote server that has not answered `initialize` by then is retried
local MAX_LOCAL_RESTARTS = 4
-- `codequorum connect` exit statuses that retrying cannot fix (server/bridge.py).
local BRIDGE_GAVE_UP = {
  [2] = "`codequorum connect` refused its settings (the address, token_file or remote_ca_file): see :LspLog",
  [3] = "the server refused the token: set $%s or `token_file` (see :LspLog)",
}

-- Neovim 0.11 turned the client's functions into methods (`client:request`), and starts
-- a client that attaches to no buffer yet with vim.lsp.start(config, { attach = false }).
local methods = vim.fn.has("nvim-0.11") == 1

local function start_client(config)
  if methods then
    return vim.lsp.start(config, { attach = false })
  end
  return vim.lsp.start_client(config)
end

local client_id
local buffers = {} -- bufnr -> true: attached, to attach again after a reconnection
local stopping = false -- stop() in progress: an exit that is not to be retried
local retry_ms = FIRST_RETRY_MS
local local_restarts = 0
local retry_timer

local function capabilities()
  return vim.tbl_deep_extend("keep", vim.lsp.protocol.make_client_capabilities(), {
    textDocument = { inlineCompletion = { dynamicRegistration = false } },
  })
end

local function where(config)
  return config.address or table.concat(config.cmd, " ")
end

local function schedule_retry(config, reason)
  local delay = retry_ms
  retry_ms = math.min(retry_ms * 2, MAX_RETRY_MS)
  state.set({ kind = "disconnected", where = where(config), message = reason, retry_in_s = delay / 1000 })
  retry_timer = retry_timer or (vim.uv or vim.loop).new_timer()
  retry_timer:stop()
  retry_timer:start(delay, 0, vim.schedule_wrap(function()
    if not stopping and not M.get() then
      M.start(config)
    end
  end))
end

local function on_exit(config, id, bridge_exit)
  return function(code, signal)
    code = bridge_exit() or code -- the bridge's own status, which Neovim was told was 0
    vim.schedule(function()
      if id() ~= client_id then
        return -- a client replaced or stopped on purpose
      end
      client_id = nil
      if stopping then
        return
      end
      local bridged = config.address and remote.parse(config.address).bridged
      if bridged and BRIDGE_GAVE_UP[code] then
        state.set({ kind = "error", where = where(config),
          message = BRIDGE_GAVE_UP[code]:format(config.token_env or "CODEQUORUM_TOKEN") })
        return
      end
      if not config.address then
        local_restarts = local_restarts + 1
        if local_restarts > MAX_LOCAL_RESTARTS then
          state.set({ kind = "error", where = where(config),
            message = ("the server exited %d times (last: code %s, signal %s); see :LspLog, then :Codequorum enable")
              :format(local_restarts, code, signal) })
          return
        end
      end
      schedule_retry(config, bridged and ("the connection ended (`codequorum connect` exited with code %s: "
        .. "why is in :LspLog)"):format(code)
        or ("the server %s (code %s)"):format(config.address and "closed the connection" or "exited", code))
    end)
  end
end

--- The client's configuration; nil and a message when it cannot be built.
local function lsp_config(config)
  local init_options = next(config.settings) ~= nil and vim.deepcopy(config.settings) or nil
  local cmd = config.cmd
  local bridge_code -- `codequorum connect`'s exit status, once it has exited
  if config.address then
    local address, problem = remote.parse(config.address)
    if not address then
      return nil, problem
    end
    if address.bridged then
      local bridge = remote.bridge_cmd(config)
      if vim.fn.executable(bridge[1]) ~= 1 then
        return nil, ("cannot find `%s` to reach %s: install codequorum (pip install 'codequorum[ws]') or set "
          .. "`connect_cmd`, e.g. { \"/path/to/.venv/bin/codequorum\", \"connect\" }"):format(bridge[1], config.address)
      end
      cmd = remote.bridge_rpc(bridge, vim.fn.getcwd(), function(code) bridge_code = code end)
    elseif not remote.supported() then
      return nil, ("connecting to %s needs Neovim 0.8 or newer (vim.lsp.rpc.connect); this is %s. "
        .. "Upgrade Neovim, or leave `address` unset to start a local server."):format(
        config.address, require("codequorum.remote").neovim_version())
    end
    local token, token_problem = remote.token(config)
    if token_problem then
      return nil, token_problem
    end
    -- Bridged, `codequorum connect` reads the token itself and adds it to initialize (it is
    -- never on a command line): the check above only tells a bad token file early.
    if not address.bridged then
      if token then
        init_options = vim.tbl_extend("force", init_options or {}, { token = token })
      end
      cmd = vim.lsp.rpc.connect(address.host, address.port)
    end
  elseif vim.fn.executable(cmd[1]) ~= 1 then
    return nil, ("cannot find the server executable `%s`: install codequorum (pip install codequorum) "
      .. "or set `cmd` to it, e.g. { \"/path/to/.venv/bin/codequorum\", \"serve\" }"):format(cmd[1])
  end
  local id
  return {
    name = NAME,
    cmd = cmd,
    root_dir = vim.fn.getcwd(),
    -- An empty Lua table would be sent as a JSON array, which the server refuses.
    init_options = init_options,
    capabilities = capabilities(),
    handlers = {
      [STATUS] = function(_, status)
        if status then
          state.from_server(status, where(config))
        end
      end,
    },
    -- The server's classic completions are for clients without inline ones. A completion menu
    -- (nvim-cmp, vim.lsp.completion) would ask on every keystroke too, and the server keeps one
    -- query per document, so each would stop the other's models.
    on_init = function(lsp_client)
      lsp_client.server_capabilities.completionProvider = nil
      retry_ms = FIRST_RETRY_MS
      -- The server says "loading" right after `initialized`; one that says nothing is ready.
      vim.defer_fn(function()
        if state.get().kind == "starting" and M.get() == lsp_client then
          state.set({ kind = "ready", where = where(config) })
        end
      end, 2000)
    end,
    on_attach = function(lsp_client, bufnr)
      M.on_buffer(bufnr, lsp_client)
    end,
    on_exit = on_exit(config, function() return id end, function() return bridge_code end),
  }, nil, function(new_id) id = new_id end
end

--- The running client, if the server was started.
function M.get()
  return client_id and vim.lsp.get_client_by_id(client_id) or nil
end

-- Whether anything listens at a remote address, without Neovim's own "Could not connect"
-- message on every retry while the server is away.
local function probe(address, done)
  local tcp = (vim.uv or vim.loop).new_tcp()
  tcp:connect(address.host, address.port, function(err)
    tcp:close()
    vim.schedule(function()
      done(err)
    end)
  end)
end

local function launch(config, lsp, set_id)
  state.set({ kind = "starting", where = where(config) })
  client_id = start_client(lsp)
  set_id(client_id)
  if not client_id then
    state.set({ kind = "error", where = where(config), message = "the LSP client did not start; see :LspLog" })
    return nil
  end
  for bufnr in pairs(buffers) do
    if vim.api.nvim_buf_is_loaded(bufnr) then
      vim.lsp.buf_attach_client(bufnr, client_id)
    else
      buffers[bufnr] = nil
    end
  end
  if config.address then
    local started = client_id
    vim.defer_fn(function()
      local lsp_client = started == client_id and M.get()
      if lsp_client and not lsp_client.initialized then
        if methods then -- no answer: on_exit retries
          lsp_client:stop(true)
        else
          lsp_client.stop(true)
        end
      end
    end, CONNECT_TIMEOUT_MS)
  end
  return M.get()
end

--- Start the client (or connect) and attach the buffers it had; returns the client, or nil
--- (an error, or a remote server being reached first).
function M.start(config)
  stopping = false
  local lsp, problem, set_id = lsp_config(config)
  if not lsp then
    state.set({ kind = "error", where = where(config), message = problem })
    return nil
  end
  if not config.address then
    return launch(config, lsp, set_id)
  end
  state.set({ kind = "starting", where = where(config) })
  probe(remote.parse(config.address), function(err)
    if stopping or M.get() then
      return
    elseif err then
      schedule_retry(config, ("cannot connect: %s"):format(err))
    else
      launch(config, lsp, set_id)
    end
  end)
  return nil
end

--- Attach `bufnr` to the server, starting it first if it is not running.
function M.attach(bufnr, config)
  buffers[bufnr] = true
  local lsp_client = M.get()
  if lsp_client then
    vim.lsp.buf_attach_client(bufnr, lsp_client.id)
    return lsp_client
  end
  local kind = state.get().kind
  if kind == "disconnected" or kind == "error" then
    return nil -- a retry is scheduled, or the user must act (then :Codequorum enable)
  end
  return M.start(config)
end

--- Stop the client (the server, when it was started here) without retrying.
function M.stop()
  stopping = true
  local_restarts = 0
  retry_ms = FIRST_RETRY_MS
  if retry_timer then
    retry_timer:stop()
  end
  local lsp_client = M.get()
  client_id = nil
  if lsp_client then
    if methods then
      lsp_client:stop()
    else
      lsp_client.stop()
    end
  end
end

--- Send a request; returns whether it was sent and its id (for `cancel`).
function M.request(client, method, params, handler, bufnr)
  if methods then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

function M.cancel(client, request_id)
  if methods then
    return client:cancel_request(request_id)
  end
  return client.cancel_request(request_id)
end

function M.notify(client, method, params)
  if methods then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

--- Run a server command (`codequorum.accept`, `codequorum.generate`, `codequorum.stats`).
function M.execute(client, command, bufnr, handler)
  local params = { command = command.command, arguments = command.arguments }
  return M.request(client, EXECUTE, params, handler or function() end, bufnr)
end

--- Tell the server what the user did with a suggestion: "shown" or "dismissed" (acceptance
--- goes through the suggestion's own `codequorum.accept` command).
function M.feedback(client, suggestion_id, event)
  M.notify(client, FEEDBACK, { id = suggestion_id, event = event })
end

--- Send new settings; the server lays them over its configuration file.
function M.configure(client, settings)
  M.notify(client, "workspace/didChangeConfiguration", {
    settings = next(settings) ~= nil and settings or vim.empty_dict(),
  })
end

return M
